"""The librarian's circulation desk: pages for check-out, check-in, the holds shelf, payments and
patron records (views), their forms, and the PDF slips. The business rules live in
``app/circulation/service_desk.py``; this package only speaks HTTP and HTML."""
