using SimdRnn.Networks;
using SimdRnn.Training;

namespace SimdRnn.Tests.Networks;

/// <summary>
/// What <see cref="RecurrentNetwork.Tensors"/> hands out cannot change anything else: networks of one architecture
/// and a trainer's snapshots share their layout, so the list is read-only and a slot's shape is a copy per caller.
/// </summary>
public class TensorSlotTests
{
    [Fact]
    public void A_caller_cannot_change_another_networks_view()
    {
        var spec = new RecurrentSpec(CellKind.Lstm, 3, 4) { Layers = 2, ReadoutSize = 2 };
        var first = RecurrentNetwork.CreateRandom(spec, seed: 1);
        using var trainer = new RecurrentTrainer(first);
        var snapshot = trainer.ToNetwork();
        var second = RecurrentNetwork.FromParameters(spec, first.Parameters);
        string[] before = Describe(snapshot);

        // Write into everything a caller gets from the first network.
        TensorSlot slot = first.Tensors[0];
        int[] shape = slot.Shape;
        shape[0] = 999;
        Array.Clear(slot.Shape);
        Assert.Equal([16, 3], slot.Shape);          // the slot itself did not change
        Assert.Equal([16, 3], slot.Dimensions);
        Assert.Equal(16 * 3, slot.Length);
        Assert.Throws<NotSupportedException>(() => ((IList<int>)slot.Dimensions)[0] = 999);
        var list = Assert.IsAssignableFrom<IList<TensorSlot>>(first.Tensors);
        Assert.Throws<NotSupportedException>(() => list[0] = slot with { Shape = [1, 1] });
        Assert.Throws<NotSupportedException>(() => list.Add(slot));
        Assert.Throws<NotSupportedException>(() => list.Clear());
        var changed = slot with { Shape = [5, 5] };  // a new slot; the shared one keeps its shape
        Assert.Equal([5, 5], changed.Dimensions);

        // The snapshot, another network of the same architecture and the first network itself are unchanged.
        Assert.Equal(before, Describe(snapshot));
        Assert.Equal(before, Describe(second));
        Assert.Equal(before, Describe(first));
        Assert.Equal(before, Describe(trainer.ToNetwork()));
        Assert.Equal(16 * 3, first.Tensor("weight_ih_l0").Length);
    }

    [Fact]
    public void A_slot_keeps_its_own_copy_of_the_shape_it_was_given()
    {
        int[] shape = [2, 3];
        var slot = new TensorSlot("w", 0, shape);
        shape[0] = 7;
        Assert.Equal([2, 3], slot.Shape);
        Assert.Equal(6, slot.Length);
        Assert.Throws<ArgumentNullException>(() => new TensorSlot("w", 0, null!));
    }

    [Fact]
    public void Slots_are_equal_when_name_offset_and_shape_are()
    {
        var a = new TensorSlot("w", 4, [2, 3]);
        Assert.Equal(a, new TensorSlot("w", 4, [2, 3]));
        Assert.Equal(a.GetHashCode(), new TensorSlot("w", 4, [2, 3]).GetHashCode());
        Assert.NotEqual(a, new TensorSlot("w", 4, [3, 2]));
        Assert.NotEqual(a, new TensorSlot("w", 5, [2, 3]));
        Assert.NotEqual(a, new TensorSlot("v", 4, [2, 3]));
        var (name, offset, shape) = a;
        Assert.Equal(("w", 4), (name, offset));
        Assert.Equal([2, 3], shape);
    }

    private static string[] Describe(RecurrentNetwork network) =>
        network.Tensors.Select(t => $"{t.Name}@{t.Offset}[{string.Join(",", t.Shape)}]={t.Length}").ToArray();
}
