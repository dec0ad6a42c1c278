using System.Text.RegularExpressions;

namespace BaloyiBank.Deploy.Tests;

/// <summary>deploy/docker/Dockerfile, read as text (no Docker engine here): pinned bases, non-root runtime, health check.</summary>
public sealed partial class DockerfileTests
{
    private static readonly string Text = File.ReadAllText(Repo.PathOf("deploy", "docker", "Dockerfile"));

    [Fact]
    public void Base_images_are_pinned_to_a_patch_version()
    {
        var bases = BaseArg().Matches(Text).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(2, bases.Count);
        foreach (var image in bases)
        {
            Assert.Matches(@":\d+\.\d+\.\d+(-[a-z0-9.-]+)?$", image);
        }

        Assert.DoesNotMatch(@"(?m)^FROM\s+\S+:latest", Text);
    }

    [Fact]
    public void The_runtime_stage_runs_as_a_non_root_user_with_a_health_check_on_alive()
    {
        var runtime = Text[Text.LastIndexOf("\nFROM ", StringComparison.Ordinal)..];
        var user = UserLine().Match(runtime);
        Assert.True(user.Success, "the runtime stage sets no USER");
        Assert.DoesNotMatch(@"^(root|0)$", user.Groups[1].Value);
        Assert.Contains("HEALTHCHECK", runtime, StringComparison.Ordinal);
        Assert.Contains("/alive", runtime, StringComparison.Ordinal);
        // Nothing runs as root after the switch: USER comes after the last RUN.
        Assert.True(runtime.LastIndexOf("\nRUN ", StringComparison.Ordinal) < user.Index, "a RUN follows USER in the runtime stage");
    }

    [Fact]
    public void The_build_context_leaves_out_host_build_output_and_the_env_file()
    {
        var ignore = File.ReadAllLines(Repo.PathOf("deploy", "docker", "Dockerfile.dockerignore")).Select(l => l.Trim()).ToHashSet(StringComparer.Ordinal);
        Assert.Superset(new HashSet<string>(["**/bin/", "**/obj/", ".env", ".git/"], StringComparer.Ordinal), ignore);
    }

    [GeneratedRegex(@"(?m)^ARG DOTNET_(?:SDK|RUNTIME)=(\S+)$")]
    private static partial Regex BaseArg();

    [GeneratedRegex(@"(?m)^USER\s+(\S+)\s*$")]
    private static partial Regex UserLine();
}
