"""Reading drafts: a draft's summary and services, a case file, a batch CSV, letters given
to ``predict.py``, each to rows of the pre-filing columns (:mod:`data.drafts.rows`), within
bounds (:mod:`data.drafts.input_files`) and with malformed batch rows set aside
(:mod:`data.drafts.batch_csv`)."""
