//! Where modems are, and whether a wireless packet reaches them.

/// A block position in one dimension of the world.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    /// The dimension (`0` overworld, or any host numbering); packets never cross dimensions
    /// except between ender modems.
    pub dimension: u32,
    /// East–west.
    pub x: f64,
    /// Height.
    pub y: f64,
    /// North–south.
    pub z: f64,
}

impl Position {
    /// A position in the overworld.
    pub const fn new(x: f64, y: f64, z: f64) -> Self {
        Position {
            dimension: 0,
            x,
            y,
            z,
        }
    }

    /// Euclidean distance, or `None` across dimensions.
    pub fn distance(&self, other: &Position) -> Option<f64> {
        (self.dimension == other.dimension).then(|| {
            let (dx, dy, dz) = (self.x - other.x, self.y - other.y, self.z - other.z);
            (dx * dx + dy * dy + dz * dz).sqrt()
        })
    }
}

/// CC:Tweaked's wireless range settings (config keys `modem_range`,
/// `modem_high_altitude_range`, and their `_during_storm` twins).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RangeConfig {
    /// Range at or below [`RangeConfig::min_high_altitude`], in blocks. Default 64.
    pub range: f64,
    /// Range at the world's top build height. Default 384.
    pub high_altitude_range: f64,
    /// Same, during a thunderstorm. Default 64.
    pub range_during_storm: f64,
    /// Same, during a thunderstorm. Default 384.
    pub high_altitude_range_during_storm: f64,
    /// Height above which the range starts to grow. Default 96.
    pub min_high_altitude: f64,
    /// The world's top build height. Default 320.
    pub max_height: f64,
    /// Whether it is storming.
    pub storm: bool,
}

impl Default for RangeConfig {
    fn default() -> Self {
        RangeConfig {
            range: 64.0,
            high_altitude_range: 384.0,
            range_during_storm: 64.0,
            high_altitude_range_during_storm: 384.0,
            min_high_altitude: 96.0,
            max_height: 320.0,
            storm: false,
        }
    }
}

impl RangeConfig {
    /// The range of a wireless modem at height `y`: the base range up to
    /// [`RangeConfig::min_high_altitude`], then growing linearly to the high-altitude range at
    /// [`RangeConfig::max_height`].
    pub fn range_at(&self, y: f64) -> f64 {
        let (low, high) = if self.storm {
            (
                self.range_during_storm,
                self.high_altitude_range_during_storm,
            )
        } else {
            (self.range, self.high_altitude_range)
        };
        if y <= self.min_high_altitude || self.max_height <= self.min_high_altitude {
            return low;
        }
        let t =
            ((y - self.min_high_altitude) / (self.max_height - self.min_high_altitude)).min(1.0);
        low + (high - low) * t
    }

    /// Whether a wireless packet from `a` reaches `b`: `distance² ≤ max(range(a), range(b))²`.
    pub fn in_range(&self, a: &Position, b: &Position) -> bool {
        match a.distance(b) {
            Some(d) => {
                let r = self.range_at(a.y).max(self.range_at(b.y));
                d * d <= r * r
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_grows_above_96() {
        let c = RangeConfig::default();
        assert_eq!(c.range_at(0.0), 64.0);
        assert_eq!(c.range_at(96.0), 64.0);
        assert_eq!(c.range_at(320.0), 384.0);
        assert_eq!(c.range_at(1000.0), 384.0);
        assert!((c.range_at(208.0) - 224.0).abs() < 1e-9);
    }

    #[test]
    fn range_is_symmetric_max_of_both() {
        let c = RangeConfig::default();
        let low = Position::new(0.0, 64.0, 0.0);
        let high = Position::new(200.0, 320.0, 0.0);
        // 320 blocks apart horizontally-ish; the high modem's 384 covers both directions.
        assert!(c.in_range(&low, &high));
        assert!(c.in_range(&high, &low));
        let far = Position::new(65.0, 64.0, 0.0);
        assert!(!c.in_range(&low, &far));
        assert!(c.in_range(&low, &Position::new(64.0, 64.0, 0.0)));
        let nether = Position {
            dimension: 1,
            ..low
        };
        assert!(!c.in_range(&low, &nether));
    }
}
