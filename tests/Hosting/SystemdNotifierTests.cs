using System.Globalization;
using System.Net.Sockets;
using System.Text;
using FluentAssertions;
using NodeAgent.Hosting;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Hosting;

/// <summary>
/// sd_notify against a real Unix datagram socket, bound where systemd would bind it: a path,
/// or a name in the abstract namespace. The bytes received are what systemd would parse.
/// </summary>
public sealed class SystemdNotifierTests : IDisposable
{
    private readonly TempRoot _dir = new("notify");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Sends_each_message_as_one_datagram_to_a_socket_path()
    {
        var path = _dir.File("notify.sock");
        using var systemd = Bind(path);
        var notifier = SystemdNotifier.FromEnvironment(Environment(("NOTIFY_SOCKET", path)))!;

        notifier.Ready("synced: 3 files changed").Should().BeTrue();
        Receive(systemd).Should().Be("READY=1\nSTATUS=synced: 3 files changed");
        notifier.Status("watching 6 resources").Should().BeTrue();
        Receive(systemd).Should().Be("STATUS=watching 6 resources");
        notifier.Watchdog().Should().BeTrue();
        Receive(systemd).Should().Be("WATCHDOG=1");
        notifier.Stopping().Should().BeTrue();
        Receive(systemd).Should().Be("STOPPING=1");
        notifier.Notify("RELOADING=1\nMONOTONIC_USEC=1").Should().BeTrue();
        Receive(systemd).Should().Be("RELOADING=1\nMONOTONIC_USEC=1");
        notifier.LastError.Should().BeNull();
    }

    [Fact]
    public void An_at_sign_names_the_abstract_namespace()
    {
        var name = "node-agent-test-" + Guid.NewGuid().ToString("N");
        using var systemd = Bind("\0" + name);
        var notifier = SystemdNotifier.FromEnvironment(Environment(("NOTIFY_SOCKET", "@" + name)))!;

        notifier.Ready("ok").Should().BeTrue();
        Receive(systemd).Should().Be("READY=1\nSTATUS=ok");
    }

    [Fact]
    public void A_newline_in_a_status_cannot_add_an_assignment()
    {
        var path = _dir.File("notify.sock");
        using var systemd = Bind(path);
        var notifier = SystemdNotifier.FromEnvironment(Environment(("NOTIFY_SOCKET", path)))!;

        notifier.Status("bad input\nREADY=1").Should().BeTrue();
        Receive(systemd).Should().Be("STATUS=bad input READY=1");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Without_NOTIFY_SOCKET_there_is_no_notifier(string? socket)
    {
        SystemdNotifier.FromEnvironment(Environment(("NOTIFY_SOCKET", socket), ("WATCHDOG_USEC", "1000000"))).Should().BeNull();
    }

    [Fact]
    public void A_socket_nobody_listens_on_is_a_false_result_naming_it_not_an_exception()
    {
        var path = _dir.File("gone.sock");
        var notifier = SystemdNotifier.FromEnvironment(Environment(("NOTIFY_SOCKET", path)))!;

        notifier.Ready("ok").Should().BeFalse();
        notifier.LastError.Should().Contain(path);
        SystemdNotifier.FromEnvironment(Environment(("NOTIFY_SOCKET", "/" + new string('x', 200))))!.Watchdog()
            .Should().BeFalse("a path longer than a socket address holds is reported, not thrown");
    }

    [Fact]
    public void A_failed_send_is_forgotten_after_the_next_success()
    {
        var path = _dir.File("late.sock");
        var notifier = SystemdNotifier.FromEnvironment(Environment(("NOTIFY_SOCKET", path)))!;
        notifier.Watchdog().Should().BeFalse();

        using var systemd = Bind(path);
        notifier.Watchdog().Should().BeTrue();
        notifier.LastError.Should().BeNull();
        Receive(systemd).Should().Be("WATCHDOG=1");
    }

    public static TheoryData<string?, string?, double?, string> Watchdogs() => new()
    {
        { null, null, null, "no watchdog configured" },
        { "30000000", null, 30.0, "30 s, for any process of the unit" },
        { "30000000", "", 30.0, "an empty pid is no restriction" },
        { "30000000", Self, 30.0, "meant for this process" },
        { "30000000", "1", null, "meant for another process (pid 1)" },
        { "30000000", "not-a-pid", null, "an unreadable pid is not ours" },
        { "1500", null, 0.0015, "microsecond precision is kept" },
        { "0", null, null, "zero disables it" },
        { "-5", null, null, "negative is not a duration" },
        { "30s", null, null, "a unit suffix is not microseconds" },
        { "", null, null, "empty" },
    };

    [Theory]
    [MemberData(nameof(Watchdogs))]
    public void Watchdog_interval_comes_from_WATCHDOG_USEC_for_this_process_only(string? usec, string? pid, double? seconds, string reason)
    {
        var notifier = SystemdNotifier.FromEnvironment(Environment(("NOTIFY_SOCKET", "@x"), ("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)))!;
        notifier.WatchdogInterval.Should().Be(seconds is { } s ? TimeSpan.FromTicks((long)Math.Round(s * TimeSpan.TicksPerSecond)) : null, reason);
    }

    private static string Self => System.Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    private static Func<string, string?> Environment(params (string Name, string? Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private static Socket Bind(string address)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { ReceiveTimeout = 5000 };
        socket.Bind(new UnixDomainSocketEndPoint(address));
        return socket;
    }

    private static string Receive(Socket socket)
    {
        var buffer = new byte[4096];
        var length = socket.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }
}
