// hbd's --help text.
import { DEFAULT_CONTROL_SOCKET } from '../control/protocol.js';

export const USAGE = `usage: hbd [options]

  -f, --foreground          stay in the foreground, log to stderr too
  -t, --test                validate the configuration and exit (0 valid, 1 not)
  -V, --version             print the version and exit
  --config-dir DIR          where ha.cf, authkeys, haresources are (default /etc/ha.d)
  --resource-dir DIR        resource.d scripts (default CONFIG-DIR/resource.d)
  --init-dir DIR[:DIR...]   init script directories, searched in order
                            (default /etc/init.d:/etc/rc.d)
  --node NAME               this node's name (default: uname -n)
  --state-dir DIR           generation and uuid (default /var/lib/heartbeat-ts)
  --control-socket PATH     control socket (default ${DEFAULT_CONTROL_SOCKET}); a read-only
                            status socket is made next to it (hbd.sock -> hbd-status.sock)
  --control-group GROUP     also let this group use the control socket (mode 0660): status,
                            standby, takeover
  --status-group GROUP      let this group use the read-only status socket (mode 0660)
  --local-address ADDR      the address this node's media bind to (several nodes on one host)
  --pid-file PATH           pid file (default /run/heartbeat-ts/hbd.pid when daemonised)
  --syslog-socket PATH      syslog socket for logfacility (default /dev/log)
  --log-tag NAME            tag log lines NAME[PID] instead of heartbeat[PID] (and resource
                            lines too, instead of ResourceManager[PID], IPaddr[PID]...);
                            overrides ha.cf log_tag
  --http-listen ADDR:PORT   serve the HTTP status API, metrics and dashboard (overrides
                            ha.cf http_listen; port 0 picks a free port and logs it)
  --witness                 run as the witness ha.cf names (\`witness NAME\`): a vote for one
                            side of a two-node partition; runs no resource group
  --agent-timeout SPEC      resource agent call timeouts, e.g. start=60,stop=60,status=20
                            (seconds, or with ms/s; default as shown): a call running longer
                            is killed with its process group and counts as failed;
                            OCF agents default to their meta-data's timeouts instead
  --http-token-file PATH    bearer token for POST /standby and /takeover (overrides ha.cf
                            http_token_file; must be mode 600)
`;
