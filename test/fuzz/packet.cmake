# Packet library fuzz targets (src/packet).
loom_add_fuzz(packet_parse DEPS loom_packet)
loom_add_fuzz(flow_key DEPS loom_packet)
loom_add_fuzz(set_fields DEPS loom_packet)
