using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>
/// Every case under <c>tests/testdata/registries/</c>: node-agent run as a user runs it on the
/// case's manifests must write exactly the expected files (or, for exit 2, nothing at all) and
/// print the expected stderr lines. <c>make golden</c> rewrites the expected files from the
/// current output for review; it never touches exit-code or stderr expectations.
/// </summary>
public sealed class GoldenTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.EnumerateDirectories(Path.Join(RepoPaths.TestData, "registries")).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(dir));
        }
        return data;
    }

    [Fact]
    public void There_are_at_least_forty_cases() => Cases().Count.Should().BeGreaterThanOrEqualTo(40);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_renders_exactly_the_expected_files(string name)
    {
        var dir = Path.Join(RepoPaths.TestData, "registries", name);
        using var root = new TempRoot();
        var args = new List<string> { "--once", "--manifests", Path.Join(dir, "input"), "--root", root.Path, "--reload-command", "" };
        var argsFile = Path.Join(dir, "args");
        if (File.Exists(argsFile))
        {
            args.AddRange(File.ReadAllLines(argsFile).Where(l => l.Length > 0));
        }
        var result = NodeAgentProcess.Run(args);

        var expectedExit = File.Exists(Path.Join(dir, "exit-code")) ? int.Parse(File.ReadAllText(Path.Join(dir, "exit-code")).Trim(), System.Globalization.CultureInfo.InvariantCulture) : 0;
        result.ExitCode.Should().Be(expectedExit, result.ToString());
        var stderrFile = Path.Join(dir, "stderr");
        if (File.Exists(stderrFile))
        {
            foreach (var expected in File.ReadAllLines(stderrFile).Where(l => l.Length > 0))
            {
                result.Stderr.Should().Contain(expected, $"case {name} expects this on stderr");
            }
        }

        var written = EtcFiles(root.Path);
        var expectedDir = Path.Join(dir, "expected");
        if (expectedExit != 0)
        {
            Directory.EnumerateFileSystemEntries(root.Path).Should().BeEmpty("on invalid input nothing below --root may be created");
            return;
        }
        if (Environment.GetEnvironmentVariable("NODE_AGENT_UPDATE_GOLDEN") == "1")
        {
            if (Directory.Exists(expectedDir))
            {
                Directory.Delete(expectedDir, recursive: true);
            }
            foreach (var (relative, bytes) in written)
            {
                var target = Path.Join(expectedDir, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.WriteAllBytes(target, bytes);
            }
            return;
        }
        var expectedFiles = EtcFiles(expectedDir);
        written.Keys.Should().BeEquivalentTo(expectedFiles.Keys, $"case {name} writes exactly these files");
        foreach (var (relative, bytes) in expectedFiles)
        {
            System.Text.Encoding.UTF8.GetString(written[relative]).Should().Be(System.Text.Encoding.UTF8.GetString(bytes), $"{relative} of case {name}");
        }
    }

    private static SortedDictionary<string, byte[]> EtcFiles(string root)
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        var etc = Path.Join(root, "etc");
        if (!Directory.Exists(etc))
        {
            return files;
        }
        foreach (var file in Directory.EnumerateFiles(etc, "*", SearchOption.AllDirectories))
        {
            files[Path.GetRelativePath(root, file).Replace('\\', '/')] = File.ReadAllBytes(file);
        }
        return files;
    }
}
