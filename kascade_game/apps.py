from django.apps import AppConfig


class KascadeGameConfig(AppConfig):
    name = "kascade_game"
    verbose_name = "KASCADE Cosmic Quiz"
