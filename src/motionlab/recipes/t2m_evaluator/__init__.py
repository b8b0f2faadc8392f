"""The contrastive text-motion evaluator (``t2m_evaluator``): a motion encoder and a text encoder trained on
the same training split as ``t2m``, whose shared space gives FID, R-precision, MM-Dist, Diversity and
MModality (:mod:`motionlab.eval.learned`)."""
