from kuaizhao.cli import main

raise SystemExit(main())
