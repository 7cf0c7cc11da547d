/* subprocess: Python's words for Popen.args, CalledProcessError and TimeoutExpired. */
#include <signal.h>
#include <string.h>

#include "internal/subprocess.h"
#include "systools/value.h"

/* ---- messages in Python's words -------------------------------------------------------------- */

/* How Python shows Popen.args in messages: the string itself for a shell command given as one
 * string, else the list's repr (an argument that is not UTF-8 shows as bytes, as Python shows a
 * bytes argument). Caller frees. */
static char *args_display(const char *const *args, int shell)
{
    if (shell && args[0] && !args[1])
        return st__strdup(args[0]);
    st_value *list = st_value_list();
    for (size_t i = 0; list && args[i]; i++) {
        st_value *arg = st_value_str(args[i]);
        if (!arg) {
            st_error_clear();
            arg = st_value_bytes(args[i], strlen(args[i]));
        }
        if (!arg || st_value_list_append_steal(list, arg) < 0) {
            st_value_unref(list);
            list = NULL;
        }
    }
    char *text = list ? st_value_repr(list) : NULL;
    st_value_unref(list);
    return text;
}

/* Python's repr() of a float timeout. Caller frees. */
static char *float_display(double v)
{
    st_value *f = st_value_float(v);
    char *text = f ? st_value_repr(f) : NULL;
    st_value_unref(f);
    return text;
}

/* signal.Signals' member names on this system (aliases resolve to these, as in Python). */
static const char *signal_name(int sig)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},     {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
        {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},   {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
        {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"},   {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
        {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"},   {SIGTERM, "SIGTERM"},
#ifdef SIGSTKFLT
        {SIGSTKFLT, "SIGSTKFLT"},
#endif
        {SIGCHLD, "SIGCHLD"}, {SIGCONT, "SIGCONT"},   {SIGSTOP, "SIGSTOP"}, {SIGTSTP, "SIGTSTP"},
        {SIGTTIN, "SIGTTIN"}, {SIGTTOU, "SIGTTOU"},   {SIGURG, "SIGURG"},   {SIGXCPU, "SIGXCPU"},
        {SIGXFSZ, "SIGXFSZ"}, {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"},
#ifdef SIGWINCH
        {SIGWINCH, "SIGWINCH"},
#endif
#ifdef SIGIO
        {SIGIO, "SIGIO"},
#endif
#ifdef SIGPWR
        {SIGPWR, "SIGPWR"},
#endif
        {SIGSYS, "SIGSYS"},
#ifdef SIGEMT
        {SIGEMT, "SIGEMT"},
#endif
#ifdef SIGINFO
        {SIGINFO, "SIGINFO"},
#endif
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
#ifdef SIGRTMIN
    if (sig == SIGRTMIN)
        return "SIGRTMIN";
    if (sig == SIGRTMAX)
        return "SIGRTMAX";
#endif
    return NULL;
}

/* subprocess.CalledProcessError's str(). */
int st__sp_raise_called(const char *const *args, int shell, int returncode)
{
    char *cmd = args_display(args, shell);
    if (!cmd)
        return ST_TRACE();
    const char *name = returncode < 0 ? signal_name(-returncode) : NULL;
    if (returncode >= 0)
        ST_RAISE_AS(ST_ECALLEDPROCESS, "subprocess.CalledProcessError",
                    "Command '%s' returned non-zero exit status %d.", cmd, returncode);
    else if (name)
        ST_RAISE_AS(ST_ECALLEDPROCESS, "subprocess.CalledProcessError",
                    "Command '%s' died with <Signals.%s: %d>.", cmd, name, -returncode);
    else
        ST_RAISE_AS(ST_ECALLEDPROCESS, "subprocess.CalledProcessError",
                    "Command '%s' died with unknown signal %d.", cmd, -returncode);
    st_free(cmd);
    return -1;
}

/* subprocess.TimeoutExpired's str(). */
int st__sp_raise_timeout(const char *const *args, int shell, double timeout_s)
{
    char *cmd = args_display(args, shell);
    if (!cmd)
        return ST_TRACE();
    char *t = float_display(timeout_s);
    if (!t) {
        st_free(cmd);
        return ST_TRACE();
    }
    ST_RAISE_AS(ST_ETIMEOUT, "subprocess.TimeoutExpired", "Command '%s' timed out after %s seconds",
                cmd, t);
    st_free(t);
    st_free(cmd);
    return -1;
}
