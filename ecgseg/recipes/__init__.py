"""Segmentation recipes: one record's signal (array) in, :class:`ecgseg.segments.Segments` out.

* :mod:`.paper` - the method of Kachuee et al. (2018), section III.A;
* :mod:`.kaggle` - how the published Kaggle CSV rows were really made.
"""
