using System.Globalization;

namespace NodeAgent.Bench;

/// <summary>
/// The options the whole-process commands share: whole-number settings with a minimum, and
/// <c>--bin PATH</c> (else <c>NODE_AGENT_BIN</c>, else this checkout's <c>bin/node-agent</c>),
/// which must exist. A bad argument names itself with the command's usage.
/// </summary>
internal sealed class BenchArguments
{
    private BenchArguments(Dictionary<string, int> values, string bin)
    {
        Values = values;
        Bin = bin;
    }

    public IReadOnlyDictionary<string, int> Values { get; }

    public string Bin { get; }

    /// <summary>
    /// Parses <paramref name="args"/> against <paramref name="settings"/> (option → default and
    /// minimum); null, with the reason on stderr, when they do not parse or the binary is missing.
    /// </summary>
    public static BenchArguments? Parse(string command, string usage, string[] args, IReadOnlyDictionary<string, (int Default, int Minimum)> settings)
    {
        var values = settings.ToDictionary(s => s.Key, s => s.Value.Default);
        var bin = Environment.GetEnvironmentVariable("NODE_AGENT_BIN") is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--bin" && i + 1 < args.Length)
            {
                bin = Path.GetFullPath(args[++i]);
            }
            else if (settings.TryGetValue(args[i], out var setting) && i + 1 < args.Length
                && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var value) && value >= setting.Minimum)
            {
                values[args[i++]] = value;
            }
            else
            {
                Console.Error.WriteLine($"{command}: unexpected argument {args[i]}\n{usage}");
                return null;
            }
        }
        bin ??= ProcessComparison.DefaultBinary();
        if (bin is null || !File.Exists(bin))
        {
            Console.Error.WriteLine($"{command}: node-agent not found ({bin ?? "no checkout found"}); run `make build` first or pass --bin");
            return null;
        }
        return new BenchArguments(values, bin);
    }
}
