"""The program's monthly report as a document: charts, HTML and PDF, drawn without a display."""
