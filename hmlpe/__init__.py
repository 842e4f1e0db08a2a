"""hmlpe: a reproduction of Li, Liu and Chan (2014), heterogeneous multi-task learning for
human pose estimation with a deep convolutional network."""

__version__ = "0.1.0"
