global using Xunit;

// The tests run whole pipelines in-process on a 2-core machine and set Generator__* variables: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
