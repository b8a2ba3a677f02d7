"""Reports written to files (non-pure: matplotlib, file I/O)."""
