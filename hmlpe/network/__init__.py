"""The network (paper 3.1, Fig. 2), its losses (eqs. 1, 3, 4), and the receptive-field and
backtracking tools of Figures 6 and 7."""
