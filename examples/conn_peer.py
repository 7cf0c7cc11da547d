"""CPython's side of conn_listener and conn_client (run by ctest with CPython 3.13 as
`python conn_peer.py DIR`, DIR holding the two programs): CPython's Client talks to
conn_listener and CPython's Listener serves conn_client, on a path and on TCP, with the right
key and a wrong one. Prints what each side saw; ports and paths are left out, so the output is
the same on every run."""
import os
import subprocess
import sys
import tempfile
from multiprocessing.connection import AuthenticationError, Client, Listener

DIR = sys.argv[1]
KEY = 'secret'


def python_clients(address_arg):
    p = subprocess.Popen([os.path.join(DIR, 'conn_listener'), address_arg, KEY],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()  # it listens once it has printed its address
    host, _, port = line.rpartition(':')
    address = line if '/' in line else (host, int(port))
    try:
        Client(address, authkey=b'wrong')
    except AuthenticationError as e:
        print('  Client with a wrong key:', type(e).__name__, e)
    with Client(address, authkey=KEY.encode()) as c:
        for value in ['hello', [1, 2.5, None], {'nested': (b'\x00', True)}, 'shutdown']:
            c.send(value)
            print('  Client sent', repr(value), 'got', repr(c.recv()))
    out, err = p.communicate(timeout=60)
    print('  conn_listener exited', p.returncode, 'and reported:', err.strip())


def python_listener(address, address_arg):
    with Listener(address, authkey=KEY.encode()) as listener:
        if address_arg is None:
            address_arg = '%s:%d' % listener.address
        for key, lines in [('wrong', 'never sent\n'), (KEY, 'hello\nworld\n')]:
            p = subprocess.Popen([os.path.join(DIR, 'conn_client'), address_arg, key],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            p.stdin.write(lines)
            p.stdin.close()
            try:
                with listener.accept() as c:
                    while True:
                        try:
                            value = c.recv()
                        except EOFError:
                            break
                        c.send({'python got': value, 'length': len(value)})
            except AuthenticationError as e:
                print('  Listener.accept() refused it:', type(e).__name__, e)
            out = p.stdout.read()
            err = p.stderr.read()
            p.wait(timeout=60)
            print('  conn_client (key %r) exited %d' % (key, p.returncode))
            for line in out.splitlines() + err.splitlines():
                print('   ', line)


with tempfile.TemporaryDirectory() as tmp:
    print('CPython Client -> conn_listener, AF_UNIX:')
    python_clients(os.path.join(tmp, 'c.sock'))
    print('CPython Client -> conn_listener, TCP:')
    python_clients('127.0.0.1:0')
    print('conn_client -> CPython Listener, AF_UNIX:')
    path = os.path.join(tmp, 'py.sock')
    python_listener(path, path)
    print('conn_client -> CPython Listener, TCP:')
    python_listener(('127.0.0.1', 0), None)
