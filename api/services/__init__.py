"""Work behind the routes: planning jobs, publishing, imports, manifests, seeding, tokens."""
