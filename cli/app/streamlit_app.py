"""The Streamlit script of ``ecg app`` (run by ``streamlit run``; see ``cli/app_cmd.py``).

Settings come from the environment, set by ``ecg app``: ``ECG_DATA_DIR`` (data folder),
``ECG_RUNS_DIR`` (run folders), ``ECG_PHYSIONET_URL`` (mirror). The page is chosen in
the sidebar; the recording page also reads ``?record=<db>/<version>/<record>`` and
``?model=<checkpoint path>`` from the URL.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])  # this source tree, ahead of any install
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from cli.app.views import PAGES  # noqa: E402

st.set_page_config(page_title="ecg app", page_icon=":anatomical_heart:", layout="wide")
st.sidebar.title("ecg")
page = st.sidebar.radio("Page", list(PAGES), key="page")
PAGES[page]()
