"""Robot descriptions as data (Unitree G1 29-DoF), the RobotMotion container and robot FK.

Submodules are imported explicitly (``motionlab.robots.g1``, ``.motion``, ``.g1_fk``,
``.mujoco_model``); nothing is imported here.
"""
