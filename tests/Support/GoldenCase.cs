using FluentAssertions;
using Xunit;

namespace NodeAgent.Tests.Support;

/// <summary>
/// One golden case under <c>tests/testdata/&lt;area&gt;/&lt;case&gt;/</c>: node-agent run as a user runs it
/// on <c>input/</c> (plus the lines of <c>args</c>) must exit with <c>exit-code</c> (default 0), print
/// the lines of <c>stderr</c>, and write exactly the files under <c>expected/</c> (or, for a non-zero
/// exit, nothing at all). With <c>NODE_AGENT_UPDATE_GOLDEN=1</c> (<c>make golden</c>) the expected
/// files are rewritten from the output instead; exit codes and stderr are never rewritten.
/// </summary>
public static class GoldenCase
{
    public static TheoryData<string> Names(string area)
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.EnumerateDirectories(Path.Join(RepoPaths.TestData, area)).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(dir));
        }
        return data;
    }

    /// <param name="defaultArgs">Arguments added when <c>args</c> does not give the same option.</param>
    /// <param name="exactDiagnostics">Every <c>warning:</c> and <c>error:</c> line must be in <c>stderr</c>, not only the other way round.</param>
    public static void Run(string area, string name, IReadOnlyList<string> defaultArgs, bool exactDiagnostics = false)
    {
        var dir = Path.Join(RepoPaths.TestData, area, name);
        using var root = new TempRoot();
        var args = new List<string> { "--once", "--manifests", Path.Join(dir, "input"), "--root", root.Path, "--reload-command", "" };
        var argsFile = Path.Join(dir, "args");
        var caseArgs = File.Exists(argsFile) ? File.ReadAllLines(argsFile).Where(l => l.Length > 0).ToList() : [];
        for (var i = 0; i < defaultArgs.Count; i += 2)
        {
            if (!caseArgs.Contains(defaultArgs[i]))
            {
                args.AddRange(defaultArgs.Skip(i).Take(2));
            }
        }
        args.AddRange(caseArgs);
        var result = NodeAgentProcess.Run(args);

        var expectedExit = File.Exists(Path.Join(dir, "exit-code")) ? int.Parse(File.ReadAllText(Path.Join(dir, "exit-code")).Trim(), System.Globalization.CultureInfo.InvariantCulture) : 0;
        result.ExitCode.Should().Be(expectedExit, result.ToString());
        // Problems name their file below the case directory ("input/image.yaml:7"), as in the case's own tree.
        var stderr = result.Stderr.Replace(dir + "/", "", StringComparison.Ordinal);
        var stderrLines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var stderrFile = Path.Join(dir, "stderr");
        var expectedLines = File.Exists(stderrFile) ? File.ReadAllLines(stderrFile).Where(l => l.Length > 0).ToList() : [];
        foreach (var expected in expectedLines)
        {
            stderr.Should().Contain(expected, $"case {name} expects this on stderr");
        }
        if (exactDiagnostics)
        {
            stderrLines.Where(l => l.StartsWith("warning: ", StringComparison.Ordinal) || l.StartsWith("error: ", StringComparison.Ordinal))
                .Should().BeSubsetOf(expectedLines, $"case {name} lists every warning and error in its stderr file");
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

    /// <summary>Every file below <c>ROOT/etc</c> with its bytes, by path relative to the root.</summary>
    public static SortedDictionary<string, byte[]> EtcFiles(string root)
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
