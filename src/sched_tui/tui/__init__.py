"""The terminal interface: the calendar screen and the widgets it is built from.

Only this package imports Textual; it renders what `Services` returns and sends
user intent back to it.
"""
