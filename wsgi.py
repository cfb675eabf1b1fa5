from portal import create_app

app = create_app()
celery_app = app.extensions["celery"]  # celery -A wsgi:celery_app worker
