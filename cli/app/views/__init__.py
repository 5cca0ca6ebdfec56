"""The app's pages, in the order of the sidebar: name -> function drawing the page."""

from . import beat, dataset, kaggle, recording, runs

PAGES = {
    "Recording": recording.render,
    "Beat": beat.render,
    "Data set": dataset.render,
    "Runs": runs.render,
    "Kaggle check": kaggle.render,
}
