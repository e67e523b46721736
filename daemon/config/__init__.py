"""Coach files: the models a firm's TOML may hold, loading and merging them, reloading on SIGHUP."""
