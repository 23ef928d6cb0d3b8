from django.dispatch import Signal

# Sent after a forest version becomes the one the game reveals (kwargs: hadronic_model, version).
forest_activated = Signal()
