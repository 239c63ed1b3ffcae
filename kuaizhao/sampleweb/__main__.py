"""``python -m kuaizhao.sampleweb``."""

import sys

from kuaizhao.sampleweb.cli import main

sys.exit(main())
