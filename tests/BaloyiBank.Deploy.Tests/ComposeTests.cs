using System.Reflection;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace BaloyiBank.Deploy.Tests;

/// <summary>docker-compose.yml, parsed (no Docker engine here): configuration, pinning, health, users, secrets.</summary>
public sealed partial class ComposeTests
{
    private static readonly YamlMappingNode Services = LoadServices();

    /// <summary>The service executables: compose service → the assembly whose options it binds.</summary>
    internal static Assembly? AssemblyOf(string composeService) => composeService switch
    {
        "generator" => typeof(Generator.GeneratorOptions).Assembly,
        "cleansing" => typeof(Cleansing.CleansingOptions).Assembly,
        "aggregator" => typeof(Aggregator.AggregatorOptions).Assembly,
        "sink" or "sink-postgres" => typeof(Sink.SinkOptions).Assembly,
        _ => null,
    };

    [Fact]
    public void Every_service_executable_is_in_the_file()
    {
        var names = Names().ToHashSet(StringComparer.Ordinal);
        Assert.Subset(names, new HashSet<string>(["generator", "cleansing", "aggregator", "sink", "azurite", "eventhubs-emulator", "sqlserver", "postgres", "rabbitmq", "otel-lgtm"]));
    }

    [Fact]
    public void Every_environment_variable_of_a_service_is_an_option_it_binds()
    {
        var problems = new List<string>();
        var checkedVariables = 0;
        foreach (var name in Names())
        {
            if (AssemblyOf(name) is not { } assembly)
            {
                continue;
            }

            var catalog = OptionCatalog.For(assembly);
            foreach (var variable in Environment(name).Keys)
            {
                checkedVariables++;
                if (catalog.Problem(variable) is { } problem)
                {
                    problems.Add($"{name}: {problem}");
                }
            }
        }

        Assert.True(checkedVariables > 40, $"only {checkedVariables} variables were checked");
        Assert.Empty(problems);
    }

    [Fact]
    public void The_checker_refuses_a_misspelt_or_foreign_option()
    {
        var generator = OptionCatalog.For(AssemblyOf("generator")!);
        Assert.Null(generator.Problem("Generator__Rate"));
        Assert.Null(generator.Problem("EventLog__EventHubs__ConnectionString"));
        Assert.NotNull(generator.Problem("Generator__Rat"));
        Assert.NotNull(generator.Problem("Lake__Blob__ServiceUri")); // the generator has no lake
        Assert.NotNull(generator.Problem("Bus__Kind"));              // nor a control bus
        var sink = OptionCatalog.For(AssemblyOf("sink")!);
        Assert.Null(sink.Problem("Warehouse__Resilience__MaxRetries"));
        Assert.NotNull(sink.Problem("Warehouse__Resilience"));        // a section, not a value
    }

    [Fact]
    public void Every_image_is_pinned()
    {
        foreach (var name in Names())
        {
            var image = Scalar(Service(name), "image");
            Assert.False(image is null, $"{name} has no image name (built images get a pinned tag too)");
            var resolved = Interpolation().Replace(image!, m => m.Groups["op"].Value.EndsWith('-') ? m.Groups["default"].Value : "UNSET");
            var tag = resolved.Contains('@', StringComparison.Ordinal) ? "digest" : resolved[(resolved.LastIndexOf('/') + 1)..].Split(':').ElementAtOrDefault(1);
            Assert.False(string.IsNullOrEmpty(tag) || tag is "latest" or "UNSET", $"{name}: image '{image}' is not pinned to a version");
        }
    }

    [Fact]
    public void Every_long_running_service_has_a_health_check_and_dependents_wait_for_it()
    {
        var oneShot = OneShotServices();
        foreach (var name in Names().Where(n => !oneShot.Contains(n)))
        {
            var health = Service(name).Children.TryGetValue(new YamlScalarNode("healthcheck"), out var node) ? node as YamlMappingNode : null;
            Assert.False(health is null || !health.Children.ContainsKey(new YamlScalarNode("test")), $"{name} has no healthcheck test");
        }

        foreach (var name in Names())
        {
            foreach (var (dependency, condition) in DependsOn(name))
            {
                var expected = oneShot.Contains(dependency) ? "service_completed_successfully" : "service_healthy";
                Assert.True(condition == expected, $"{name} waits for {dependency} with '{condition}', expected {expected}");
            }
        }
    }

    [Fact]
    public void No_container_runs_as_root()
    {
        foreach (var name in Names())
        {
            var user = Scalar(Service(name), "user");
            Assert.False(string.IsNullOrWhiteSpace(user), $"{name} sets no user: (the image's default may be root)");
            Assert.DoesNotMatch(@"^(root|0)(:.*)?$", user!);
        }
    }

    [Fact]
    public void Secrets_come_from_the_env_file_which_git_ignores_and_the_example_lists()
    {
        var text = File.ReadAllText(Repo.PathOf("docker-compose.yml"));
        var used = Interpolation().Matches(text).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        var example = File.ReadAllLines(Repo.PathOf(".env.example"))
            .Where(l => l.Contains('=', StringComparison.Ordinal) && !l.TrimStart().StartsWith('#'))
            .Select(l => l[..l.IndexOf('=', StringComparison.Ordinal)].Trim()).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(used.Except(example));
        Assert.Contains(".env", File.ReadAllLines(Repo.PathOf(".gitignore")).Select(l => l.Trim()));

        // Every password, key or connection-string value is interpolated, never written in the file.
        foreach (var name in Names())
        {
            foreach (var (variable, value) in Environment(name))
            {
                if (SecretName().IsMatch(variable) || value.Contains("Password=", StringComparison.OrdinalIgnoreCase))
                {
                    Assert.True(Interpolation().IsMatch(value), $"{name}: {variable} holds a literal secret; take it from .env");
                }
            }
        }

        // The example's secret slots are empty: only the emulator's and Azurite's published development values are filled.
        foreach (var line in File.ReadAllLines(Repo.PathOf(".env.example")).Where(l => !l.TrimStart().StartsWith('#') && SecretName().IsMatch(l.Split('=')[0])))
        {
            var value = line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..];
            Assert.True(value.Length == 0 || value.Contains("SAS_KEY_VALUE", StringComparison.Ordinal) || value.StartsWith("Eby8vdM02", StringComparison.Ordinal),
                $".env.example fills {line.Split('=')[0]}");
        }
    }

    internal static IEnumerable<string> Names() => Services.Children.Keys.Cast<YamlScalarNode>().Select(k => k.Value!);

    private static YamlMappingNode Service(string name) => (YamlMappingNode)Services.Children[new YamlScalarNode(name)];

    internal static Dictionary<string, string> Environment(string name)
    {
        if (!Service(name).Children.TryGetValue(new YamlScalarNode("environment"), out var node))
        {
            return [];
        }

        return node switch
        {
            YamlMappingNode map => map.Children.ToDictionary(e => ((YamlScalarNode)e.Key).Value!, e => ((YamlScalarNode)e.Value).Value ?? "", StringComparer.Ordinal),
            YamlSequenceNode list => list.Children.Cast<YamlScalarNode>().Select(s => s.Value!.Split('=', 2))
                .ToDictionary(p => p[0], p => p.ElementAtOrDefault(1) ?? "", StringComparer.Ordinal),
            _ => throw new InvalidOperationException($"{name}: environment is neither a map nor a list"),
        };
    }

    private static IEnumerable<(string Dependency, string Condition)> DependsOn(string name)
    {
        if (!Service(name).Children.TryGetValue(new YamlScalarNode("depends_on"), out var node))
        {
            yield break;
        }

        if (node is YamlSequenceNode list)
        {
            foreach (var item in list.Children.Cast<YamlScalarNode>())
            {
                yield return (item.Value!, "service_started");
            }

            yield break;
        }

        foreach (var (key, value) in ((YamlMappingNode)node).Children)
        {
            yield return (((YamlScalarNode)key).Value!, Scalar((YamlMappingNode)value, "condition") ?? "service_started");
        }
    }

    /// <summary>Services others wait for to complete: they exit by design and need no health check.</summary>
    private static HashSet<string> OneShotServices() =>
        Names().SelectMany(DependsOn).Where(d => d.Condition == "service_completed_successfully").Select(d => d.Dependency).ToHashSet(StringComparer.Ordinal);

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? (node as YamlScalarNode)?.Value : null;

    private static YamlMappingNode LoadServices()
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Repo.PathOf("docker-compose.yml"));
        stream.Load(reader);
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        return (YamlMappingNode)root.Children[new YamlScalarNode("services")];
    }

    [GeneratedRegex(@"\$\{(?<name>[A-Z_][A-Z0-9_]*)(?:(?<op>:?[-?])(?<default>[^}]*))?\}")]
    private static partial Regex Interpolation();

    [GeneratedRegex(@"(?i)(password|secret|accountkey|connectionstring|_KEY$|token)")]
    private static partial Regex SecretName();
}
