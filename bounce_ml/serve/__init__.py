"""``bounce-ml serve``: the HTTP service and the review page.

The service only wires things: it classifies with the same `Classifier` and reads
emails with the same reader as the CLI, and owns HTTP, limits, authentication,
the access log and the page. Install it with the ``serve`` extra
(``pip install 'bounce-ml[serve]'``; ``make install`` does).
"""
