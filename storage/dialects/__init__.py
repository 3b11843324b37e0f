"""What differs between the SQL engines, one small module each (see ``storage/db.py``)."""
