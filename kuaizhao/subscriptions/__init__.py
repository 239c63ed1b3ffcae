"""我的订阅: accounts, follows, matching at ingest, and delivery (pages, feeds, email, webhooks)."""
