"""``ecg app``: a Streamlit web app over the toolkit's Python API.

``api`` is the only module that calls ``ecgseg``/``ecgnet``; ``charts`` builds the
Altair charts; ``views`` holds one module per page; ``streamlit_app.py`` is the script
``streamlit run`` executes. Install with ``pip install -e ".[app]"``.
"""

from pathlib import Path

#: The script ``streamlit run`` executes.
SCRIPT = Path(__file__).with_name("streamlit_app.py")
