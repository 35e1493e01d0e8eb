# Fuzz targets for src/model.
loom_add_fuzz(topology_json DEPS loom_model)
