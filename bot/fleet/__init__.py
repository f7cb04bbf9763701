"""Named Docker engines: the engines file (spec, load), the clients and which engines a command names (engines)."""
