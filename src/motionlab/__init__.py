"""motionlab: a toolkit for learning human motion.

Conventions used everywhere in the package (see README "Conventions"):

* world frame: right-handed, Z up, metres, seconds;
* quaternions: w first, ``(w, x, y, z)``;
* 6D rotations: the first two *columns* of the rotation matrix, flattened as
  ``(R00, R10, R20, R01, R11, R21)``;
* model tensors: ``(batch, time, features)``.

Nothing heavy is imported here: ``import motionlab`` is cheap.
"""

from motionlab.errors import MotionLabError

__version__ = "0.1.0"

__all__ = ["MotionLabError", "__version__"]
