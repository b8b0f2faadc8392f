"""The built-in synthetic corpus: procedural locomotion, speech, gestures, listening, dyadic
pairs, captions, paired G1 robot clips and 2D keypoints, deterministic from a seed.

Modules: ``rig`` (controls -> SMPL-22 motion by two-bone IK), ``locomotion``, ``speech``,
``gesture``, ``captions``, ``robot`` (SMPL-22 -> G1), ``keypoints`` (COCO-17 cameras),
``corpus`` (:func:`~motionlab.data.synth.corpus.generate_corpus`, ``load_corpus``,
``motionlab.data.profile.profile_dataset``). Nothing is imported here eagerly.
"""
