"""JupyterHub for the course (started by `make hub`, which prepares accounts, environment and exchange).

The instructor's server reads the course's nbgrader config from their copy of the course (formgrader,
sandboxed autograde); students' servers read hub/student/ (the exchange and the course id, no formgrader).
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from grader.course import EXCHANGE as EXCHANGE_ENV, HUB_URL  # noqa: E402
from grader.delivery.hub import ENV, EXCHANGE, HUB, INSTRUCTOR, PROXY, STATE, STUDENTS, course_copy  # noqa: E402

c = get_config()  # noqa: F821 (provided by traitlets)

URL = os.environ.get(HUB_URL, "http://127.0.0.1:8000")
PORT = int(URL.rsplit(":", 1)[1].strip("/"))
c.JupyterHub.bind_url = URL
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{PORT + 1}"  # the hub's and the proxy's APIs on the next ports
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 2}"
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.command = [str(PROXY)]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")

c.Authenticator.allowed_users = {INSTRUCTOR, *STUDENTS}  # system accounts, checked by PAM
c.Authenticator.admin_users = {INSTRUCTOR}

c.Spawner.cmd = [str(ENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {EXCHANGE_ENV: str(EXCHANGE), "TF_CPP_MIN_LOG_LEVEL": "3",
                         "PATH": f"{ENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",  # the course's tools, not root's
                         **{k: v for k, v in os.environ.items() if k == "ATTENTIONLAB_SPA_ENG"}}


def course_config(spawner):
    """The instructor gets the course's nbgrader config, students the students' one."""
    name = spawner.user.name
    spawner.environment["JUPYTER_CONFIG_PATH"] = str(
        course_copy(name) / "grader" if name == INSTRUCTOR else HUB / "student")


c.Spawner.pre_spawn_hook = course_config
