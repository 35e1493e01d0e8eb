# The agent's packet worker on arbitrary upcalled frames, over an in-memory fast path.
loom_add_fuzz(agent_upcall DEPS loom_agent loom_test_support)
