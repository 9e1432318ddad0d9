using System.Collections;
using System.Net;
using FluentAssertions;
using NodeAgent.Configuration;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Configuration;

/// <summary>The <c>Listen</c> setting: the forms accepted, and errors that name the value.</summary>
public sealed class ListenAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:0", "127.0.0.1", 0, "any free port on loopback")]
    [InlineData("0.0.0.0:9100", "0.0.0.0", 9100, "every IPv4 address")]
    [InlineData("[::1]:9000", "::1", 9000, "IPv6 loopback")]
    [InlineData("[::]:65535", "::", 65535, "every IPv6 address, highest port")]
    [InlineData("10.0.12.7:09100", "10.0.12.7", 9100, "a leading zero in the port is still the number")]
    public void Accepts(string text, string address, int port, string reason)
    {
        ListenAddress.TryParse(text, out var endPoint, out var problem).Should().BeTrue(reason + ": " + problem);
        endPoint.Should().Be(new IPEndPoint(IPAddress.Parse(address), port), reason);
    }

    [Theory]
    [InlineData("", "the port is missing", "empty")]
    [InlineData("9100", "the port is missing", "a port alone")]
    [InlineData(":9100", "the address is missing", "no address")]
    [InlineData("localhost:9100", "\"localhost\" is not an IPv4 address (host names are not accepted)", "a host name")]
    [InlineData("127.1:9100", "\"127.1\" is not an IPv4 address", "shorthand IPv4")]
    [InlineData("256.0.0.1:9100", "\"256.0.0.1\" is not an IPv4 address", "octet out of range")]
    [InlineData("127.0.0.1:", "the port \"\" is not a number from 0 to 65535", "empty port")]
    [InlineData("127.0.0.1:65536", "the port \"65536\" is not a number from 0 to 65535", "port too high")]
    [InlineData("127.0.0.1:-1", "the port \"-1\" is not a number", "negative port")]
    [InlineData("127.0.0.1:http", "the port \"http\" is not a number", "a service name")]
    [InlineData("127.0.0.1: 9100", "the port \" 9100\" is not a number", "a space")]
    [InlineData("::1:9100", "an IPv6 address must be written in brackets", "IPv6 without brackets")]
    [InlineData("[::1]", "a bracketed IPv6 address must be followed by :PORT", "IPv6 without a port")]
    [InlineData("[127.0.0.1]:9100", "\"127.0.0.1\" is not an IPv6 address", "IPv4 in brackets")]
    [InlineData("[fe80::zz]:9100", "\"fe80::zz\" is not an IPv6 address", "not hex")]
    public void Refuses_naming_the_value(string text, string why, string reason)
    {
        ListenAddress.TryParse(text, out var endPoint, out var problem).Should().BeFalse(reason);
        endPoint.Should().BeNull();
        problem.Should().StartWith($"\"{text}\" is not ADDR:PORT: ", reason).And.Contain(why, reason)
            .And.EndWith("for example 127.0.0.1:9100, 0.0.0.0:9100 or [::1]:9100");
    }

    [Fact]
    public void OptionsLoader_refuses_a_bad_listen_from_the_command_line_or_the_environment()
    {
        var fromCommandLine = () => OptionsLoader.Load(CommandLine.Parse(["--listen", "localhost:9100"]), new Hashtable());
        fromCommandLine.Should().Throw<UsageException>().WithMessage("Listen: \"localhost:9100\" is not ADDR:PORT: *");

        var fromEnvironment = () => OptionsLoader.Load(CommandLine.Parse([]), new Hashtable { ["NODEAGENT_Listen"] = "[::1]" });
        fromEnvironment.Should().Throw<UsageException>().WithMessage("Listen: \"[::1]\" is not ADDR:PORT: *");
    }

    [Theory]
    [InlineData("0.0.0.0:9100", "0.0.0.0:9100")]
    [InlineData("", null)]
    public void OptionsLoader_keeps_a_good_listen_and_reads_empty_as_none(string listen, string? expected)
    {
        OptionsLoader.Load(CommandLine.Parse(["--listen", listen]), new Hashtable()).Listen.Should().Be(expected);
    }

    [Fact]
    public void A_bad_listen_is_a_usage_error_at_startup()
    {
        var result = NodeAgentProcess.Run(["--listen", "0.0.0.0:99999"]);
        result.ExitCode.Should().Be(2, result.ToString());
        result.Stdout.Should().BeEmpty();
        result.Stderr.Should().Be("error: Listen: \"0.0.0.0:99999\" is not ADDR:PORT: the port \"99999\" is not a number from 0 to 65535; for example 127.0.0.1:9100, 0.0.0.0:9100 or [::1]:9100\n");
    }
}
