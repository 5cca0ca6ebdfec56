"""Segmentation recipes: one record's signal (array) in, :class:`ecgseg.segments.Segments` out.

* :mod:`.paper` - the method of Kachuee et al. (2018), section III.A;
* :mod:`.kaggle` - how the published Kaggle CSV rows were really made;
* :mod:`.registry` - the one place a recipe name is resolved (:func:`get_recipe`);
* :mod:`.paper_record`, :mod:`.kaggle_record` - each recipe on one record file
  (read, detect, segment, label), what the registry's ``run`` calls;
* :mod:`.params` - their parameter objects.
"""

from .registry import (Recipe, RecipeOutput, RecordJob, get_recipe, recipe_names,  # noqa: F401
                       register_recipe)
