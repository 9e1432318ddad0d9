using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Cli;

/// <summary>
/// What a new user runs into on a first try, through the built binary: a --root that is a file,
/// an option without its value, a misspelt NODEAGENT_ variable, a --config that is not JSON, a
/// mirror written as a URL, a root they may not write, and log lines that must say what happened.
/// Every mistake is one <c>error:</c> line naming the thing and what to do.
/// </summary>
public sealed partial class FirstRunMistakesTests : IDisposable
{
    private readonly TempRoot _work = new("first-run");

    public void Dispose() => _work.Dispose();

    private string Root => _work.File("root");

    private string Objects(string yaml) => _work.Write($"objects-{Guid.NewGuid():N}/objects.yaml", yaml);

    private static ProcessResult Once(string manifests, string root, params string[] extra) =>
        NodeAgentProcess.Run(["--once", "--manifests", manifests, "--root", root, "--reload-command", "", .. extra]);

    private static void InvalidInput(ProcessResult result, string line)
    {
        result.ExitCode.Should().Be(2, result.ToString());
        result.Stdout.Should().BeEmpty();
        result.StderrLines.Should().Equal([line], result.ToString());
    }

    // ---- options that take a value ----------------------------------------------------------------

    [Theory]
    [InlineData("--manifests")]
    [InlineData("--config")]
    [InlineData("--output")]
    [InlineData("--root")]
    [InlineData("--kubeconfig")]
    [InlineData("--node-name")]
    [InlineData("--release-image")]
    [InlineData("--reload-command")]
    [InlineData("--health-command")]
    [InlineData("--listen")]
    [InlineData("--log-level")]
    [InlineData("--runtime")]
    public void An_option_followed_by_another_option_needs_a_value(string option)
    {
        var followed = NodeAgentProcess.Run(["--once", option, "--dry-run", Root]);
        InvalidInput(followed, $"error: {option} needs a value, but --dry-run follows it; see node-agent --help (a value starting with -- is written {option}=VALUE)");

        var last = NodeAgentProcess.Run(["--once", option]);
        InvalidInput(last, $"error: {option} needs a value; see node-agent --help");
    }

    [Fact]
    public void Manifests_followed_by_root_says_manifests_needs_a_value_not_unknown_option()
    {
        var result = NodeAgentProcess.Run(["--once", "--manifests", "--root", Root]);

        InvalidInput(result, $"error: --manifests needs a value, but --root follows it; see node-agent --help (a value starting with -- is written --manifests=VALUE)");
        Directory.Exists(Root).Should().BeFalse();
    }

    [Fact]
    public void A_value_that_starts_with_two_dashes_is_given_with_equals()
    {
        var result = Once(RepoPaths.Examples, Root, "--dry-run", "--node-name=--odd");

        result.ExitCode.Should().Be(0, result.ToString());
    }
}
