from django.apps import AppConfig


class KascadeGameConfig(AppConfig):
    name = "kascade_game"
    verbose_name = "KASCADE Cosmic Quiz"

    def ready(self):
        from classify.signals import forest_activated

        from .decks import rebuild_deck_on_activation

        forest_activated.connect(rebuild_deck_on_activation, dispatch_uid="rebuild-deck")
