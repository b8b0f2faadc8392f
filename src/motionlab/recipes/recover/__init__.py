"""The ``recover`` recipe: 2D keypoint tracks -> 3D and world SMPL-22 motion, adapted from synthetic to
real-like keypoints without target labels (see :mod:`motionlab.recipes.recover.config`)."""
