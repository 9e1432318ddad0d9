using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace NodeAgent.Hosting;

/// <summary>
/// Tells systemd how the daemon is doing (sd_notify): one datagram of <c>KEY=value</c> lines
/// to the Unix socket named by <c>NOTIFY_SOCKET</c>. This stands in for
/// Microsoft.Extensions.Hosting.Systemd, which the package mirror here lacks.
/// </summary>
public sealed class SystemdNotifier
{
    private SystemdNotifier(string notifySocket, TimeSpan? watchdogInterval)
    {
        NotifySocket = notifySocket;
        WatchdogInterval = watchdogInterval;
    }

    /// <summary>
    /// How often systemd expects <c>WATCHDOG=1</c> at the latest (<c>WATCHDOG_USEC</c>); null when
    /// the unit has no watchdog or it is meant for another process. Ping at half of it.
    /// </summary>
    public TimeSpan? WatchdogInterval { get; }

    /// <summary>The socket address as given, <c>@</c> marking the abstract namespace.</summary>
    public string NotifySocket { get; }

    /// <summary>Why the last <see cref="Notify"/> failed; null after a success.</summary>
    public string? LastError { get; private set; }

    /// <summary>
    /// The notifier systemd asked for, or null when the process does not run under a
    /// <c>Type=notify</c> unit (<c>NOTIFY_SOCKET</c> unset or empty).
    /// </summary>
    public static SystemdNotifier? FromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var socket = environment("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(socket))
        {
            return null;
        }
        return new SystemdNotifier(socket, ParseWatchdog(environment("WATCHDOG_USEC"), environment("WATCHDOG_PID")));
    }

    /// <summary>
    /// Sends <paramref name="state"/> (newline-separated assignments) as one datagram. Never
    /// throws: systemd being away must not stop the daemon, so a failure is reported by the
    /// result and <see cref="LastError"/> for the caller to log once.
    /// </summary>
    public bool Notify(string state)
    {
        ArgumentNullException.ThrowIfNull(state);
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            // A fresh socket per message, as sd_notify does: nothing to keep in sync and a
            // restarted systemd (daemon-reexec) is reached at the same address.
            socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(SocketPath(NotifySocket)));
            LastError = null;
            return true;
        }
        catch (Exception e) when (e is SocketException or ArgumentException or IOException or ObjectDisposedException)
        {
            LastError = $"NOTIFY_SOCKET {NotifySocket}: {e.Message}";
            return false;
        }
    }

    /// <summary><c>READY=1</c> with a status line: start-up is over.</summary>
    public bool Ready(string status) => Notify($"READY=1\nSTATUS={OneLine(status)}");

    /// <summary><c>STOPPING=1</c>: shutting down, so systemd does not count the exit as a crash.</summary>
    public bool Stopping() => Notify("STOPPING=1");

    /// <summary><c>STATUS=</c>: the line <c>systemctl status</c> shows.</summary>
    public bool Status(string status) => Notify($"STATUS={OneLine(status)}");

    /// <summary><c>WATCHDOG=1</c>: still alive.</summary>
    public bool Watchdog() => Notify("WATCHDOG=1");

    // '@' is how the environment spells the leading NUL of an abstract socket name.
    private static string SocketPath(string socket) => socket.StartsWith('@') ? "\0" + socket[1..] : socket;

    // A newline inside a value would start a new assignment that systemd would act on.
    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private static TimeSpan? ParseWatchdog(string? usec, string? pid)
    {
        if (!ulong.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out var microseconds) || microseconds == 0)
        {
            return null;
        }
        // systemd sets WATCHDOG_PID when the watchdog belongs to one process of the unit; a child
        // that inherited the variables must not ping on its parent's behalf.
        if (!string.IsNullOrEmpty(pid) &&
            (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var owner) || owner != Environment.ProcessId))
        {
            return null;
        }
        return microseconds > (ulong)(TimeSpan.MaxValue.Ticks / TimeSpan.TicksPerMicrosecond)
            ? null
            : TimeSpan.FromMicroseconds((long)microseconds);
    }
}
