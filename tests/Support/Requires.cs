using Xunit;

namespace NodeAgent.Tests.Support;

/// <summary>
/// What a test needs from the machine (a program, root, a namespace, IPv6). When it is missing the
/// test is skipped with the reason, so it never counts as passed; with <c>CI=true</c> it fails with
/// the reason instead, so a check cannot vanish from the pipeline because a package is missing.
/// Only <c>[SkippableFact]</c> and <c>[SkippableTheory]</c> turn the skip into a skip (elsewhere it
/// is a failure), so every test that calls this carries one of them.
/// </summary>
public static class Requires
{
    /// <summary>True when the environment variable <c>CI</c> is <c>true</c> (any case).</summary>
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Goes on only when <paramref name="condition"/> holds; <paramref name="reason"/> says what is missing.</summary>
    public static void That(bool condition, string reason)
    {
        if (!condition)
        {
            Missing(reason);
        }
    }

    /// <summary>Goes on only when <paramref name="unavailable"/> is null; else it is what is missing (a fixture's or probe's reason).</summary>
    public static void Available(string? unavailable)
    {
        if (unavailable is not null)
        {
            Missing(unavailable);
        }
    }

    /// <summary>The full path of <paramref name="program"/> on <c>PATH</c>; missing, the test stops naming the Debian package.</summary>
    public static string Tool(string program, string debianPackage)
    {
        Available(ToolMissing(program, debianPackage));
        return OnPath(program)!;
    }

    /// <summary>Null when <paramref name="program"/> is on <c>PATH</c>, else that it is not installed and how to install it.</summary>
    public static string? ToolMissing(string program, string debianPackage) =>
        OnPath(program) is null ? $"{program} is not installed: apt-get install {debianPackage} (make deps does it as root)" : null;

    /// <summary>The first <paramref name="program"/> in a <c>PATH</c> directory, or null. <c>PATH</c> alone decides, so it can hide a tool.</summary>
    public static string? OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Join(directory, program))
            .FirstOrDefault(File.Exists);

    private static void Missing(string reason)
    {
        if (InCi)
        {
            Assert.Fail($"{reason} (CI=true: a missing requirement fails the test instead of skipping it)");
        }
        throw new SkipException(reason);
    }
}
