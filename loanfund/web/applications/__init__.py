"""Loan applications: the cooperative's side (apply, dossier, answers) and the fund's side
(queues, appraisal, decision). One blueprint, ``applications``."""
