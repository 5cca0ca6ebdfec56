"""The Streamlit script of ``ecg app`` (run by ``streamlit run``; see ``cli/app_cmd.py``).

Settings come from the environment, set by ``ecg app``: ``ECG_DATA_DIR`` (data folder),
``ECG_RUNS_DIR`` (run folders), ``ECG_PHYSIONET_URL`` (mirror). The page is chosen in
the sidebar; the recording page also reads ``?record=<db>/<version>/<record>`` and
``?model=<pretrained model name or checkpoint path>`` from the URL.
"""

import importlib
import os

import streamlit as st

#: The package this script belongs to (``ecg_cli``; ``ecg app`` passes its own name in
#: ``ECG_APP_PACKAGE``, so the views come from the same copy as the command).
PACKAGE = os.environ.get("ECG_APP_PACKAGE") or "ecg_cli"
PAGES = importlib.import_module(f"{PACKAGE}.app.views").PAGES

st.set_page_config(page_title="ecg app", page_icon=":anatomical_heart:", layout="wide")
st.sidebar.title("ecg")
page = st.sidebar.radio("Page", list(PAGES), key="page")
PAGES[page]()
