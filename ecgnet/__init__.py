"""ecgnet: the CNN of Kachuee et al. (2018) for heartbeat classification, in PyTorch."""
