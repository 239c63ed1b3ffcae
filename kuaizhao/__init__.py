"""kuaizhao (快照): a public archive of Chinese news snapshots."""

__version__ = "0.1.0.dev0"
