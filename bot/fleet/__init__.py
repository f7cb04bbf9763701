"""Named Docker engines: the engines file (spec, load), the clients and which engines a command names (registry).

Nothing is imported here: bot.engine uses bot.fleet.spec, and bot.fleet.registry uses bot.engine.
"""
