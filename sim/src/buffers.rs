//! Moving batches between reused buffers without copying when it can be avoided.
//! The dock passes level changes and trades from the exchange to the feed and on to
//! the engine in vectors that are kept and reused; most batches are a change or two
//! arriving at an empty buffer, where swapping the two vectors beats copying. This
//! module does not allocate and keeps every buffer's capacity in circulation.

/// Moves every element of `from` to the end of `into`, leaving `from` empty: the
/// same result as [`Vec::append`], by swapping the two buffers when `into` is empty
/// (no copy) and appending otherwise.
pub(crate) fn move_all<T>(from: &mut Vec<T>, into: &mut Vec<T>) {
    if from.is_empty() {
        return;
    }
    if into.is_empty() {
        std::mem::swap(from, into);
    } else {
        into.append(from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_gives_what_append_gives_and_keeps_the_buffers() {
        let (mut from, mut into) = (vec![1, 2], Vec::with_capacity(8));
        move_all(&mut from, &mut into);
        assert_eq!((from.as_slice(), into.as_slice()), (&[][..], &[1, 2][..]));
        assert_eq!(from.capacity(), 8, "the empty buffer's capacity stays in circulation");
        let mut more = vec![3];
        move_all(&mut more, &mut into);
        assert_eq!((more.as_slice(), into.as_slice()), (&[][..], &[1, 2, 3][..]));
        move_all(&mut Vec::new(), &mut into);
        assert_eq!(into, [1, 2, 3]);
    }
}
