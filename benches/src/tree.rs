//! W6's input: a balanced binary tree of `2^depth - 1` nodes, stored in
//! one vector in pre-order (a node, its left subtree, its right subtree),
//! so that a sum chases child links the way a boxed tree does, without
//! millions of allocations.

/// One node: its value and its children's indices (`NONE` for a leaf).
#[derive(Clone, Copy, Debug)]
pub struct Node {
    /// The value summed.
    pub val: u64,
    /// Index of the left child, or `NONE`.
    pub left: u32,
    /// Index of the right child, or `NONE`.
    pub right: u32,
}

/// No child.
pub const NONE: u32 = u32::MAX;

/// A balanced binary tree; node 0 is the root.
#[derive(Debug)]
pub struct Tree {
    /// Every node, in pre-order.
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The tree of `depth` levels (`depth >= 1`), node `i` holding `i % 7 + 1`.
    pub fn new(depth: u32) -> Tree {
        assert!(
            (1..=30).contains(&depth),
            "tree depth {depth} out of 1..=30"
        );
        let n = (1usize << depth) - 1;
        let mut nodes = Vec::with_capacity(n);
        fn fill(nodes: &mut Vec<Node>, depth: u32) {
            let me = nodes.len();
            nodes.push(Node {
                val: (me % 7 + 1) as u64,
                left: NONE,
                right: NONE,
            });
            if depth > 1 {
                nodes[me].left = nodes.len() as u32;
                fill(nodes, depth - 1);
                nodes[me].right = nodes.len() as u32;
                fill(nodes, depth - 1);
            }
        }
        fill(&mut nodes, depth);
        Tree { nodes }
    }

    /// Node `i`.
    #[inline]
    pub fn node(&self, i: u32) -> &Node {
        &self.nodes[i as usize]
    }

    /// The sum of every node's value, by the obvious loop (the expected answer).
    pub fn expected_sum(&self) -> u64 {
        self.nodes.iter().map(|n| n.val).sum()
    }
}

/// The sequential recursion every parallel column mirrors (W6's baseline).
pub fn sum_seq(tree: &Tree, i: u32) -> u64 {
    let node = tree.node(i);
    if node.left == NONE {
        return node.val;
    }
    node.val + sum_seq(tree, node.left) + sum_seq(tree, node.right)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_sum() {
        let t = Tree::new(4);
        assert_eq!(t.nodes.len(), 15);
        assert_eq!(sum_seq(&t, 0), t.expected_sum());
        let leaves = t.nodes.iter().filter(|n| n.left == NONE).count();
        assert_eq!(leaves, 8);
        assert_eq!(Tree::new(1).expected_sum(), 1);
    }
}
